/** This package's version, recorded in every protocol card (a test keeps it equal to package.json's). */
export const EVALUATION_VERSION = '0.1.0';
