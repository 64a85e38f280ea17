/** Written into artifacts (`createdBy`), so keep in step with package.json's version. */
export const QUIVER_VERSION = '0.1.0';
