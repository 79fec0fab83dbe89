// Tests run on the pure-JS cpu backend: it installs from the npm registry alone and is exact
// enough for tolerance checks. Other backends are exercised explicitly where a test names them.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

tf.env().set('PROD', true); // silences tfjs's "install tfjs-node" banner (PROD only mutes warnings)
await tf.setBackend('cpu');
await tf.ready();
