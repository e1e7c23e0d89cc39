// Policy routing on the appliance: replies and backend traffic leave by the NIC they belong to.
// networkd renders the rules of static addresses (src/plan); route-tables.service adds the same
// rules for leased ones (src/routetables). One spelling of the numbers for both.

/** The routing tables of the workload and frontend NICs (the management NIC uses main). */
export const ROUTE_TABLES = { workload: 201, frontend: 202 } as const;

/**
 * First the main table without its default route (connected networks answer directly), then the
 * NIC's networks (additional workload networks; a leased subnet), then by source address: the
 * NIC's own, then the VIPs it carries.
 */
export const RULE_PRIORITY = { main: 900, to: 950, from: 1000, vip: 1100 } as const;

/** Rules and routes route-tables.service made carry this protocol number (/etc/iproute2/rt_protos.d/ovactl.conf). */
export const ROUTE_TABLES_PROTO = 251;
