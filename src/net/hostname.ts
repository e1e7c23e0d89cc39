// Host names as DNS has them: dot-separated labels of letters, digits and inner hyphens, the last not
// all digits (that would be an IPv4 address typed wrong).
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
export const isHostName = (s: string): boolean =>
  s.length <= 253 && s.split('.').every((l) => HOST_LABEL.test(l)) && !/^\d+$/.test(s.split('.').pop()!);
