// @tensorflow/tfjs-core registers no gradient functions by itself (the `@tensorflow/tfjs` union
// package does it). Training needs them, so every module that differentiates imports this one.
// It registers gradients only; it never selects a backend.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
