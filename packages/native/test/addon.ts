import { execFileSync } from 'node:child_process';

/** The addon the tests load: the install-time build, or PROBUNET_NATIVE_ADDON (the sanitizer build). */
export const addonPath = process.env.PROBUNET_NATIVE_ADDON || new URL('../build/Release/probunet_native.node', import.meta.url).pathname;

/** Whether this machine can compile the addon; where it can, the addon must have been built. */
export const compilerPresent = (() => {
  try {
    execFileSync('c++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
