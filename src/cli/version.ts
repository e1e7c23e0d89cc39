// ovactl's version: the build sets OVACTL_VERSION (build/bundle), a checkout says 0.1.0.
export const VERSION = process.env.OVACTL_VERSION ?? '0.1.0';
