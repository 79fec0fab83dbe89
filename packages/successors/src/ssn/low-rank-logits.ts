import { drawLogLikelihoods } from '@probunet/core/internal';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A low-rank multivariate Gaussian over all H·W·K logits of each image: η ~ N(μ, PPᵀ + diag(D)).
 * Float32, NHWC; the factor's last axis is the rank r.
 */
export interface LowRankLogits {
  /** μ [B,H,W,K] */
  mean: tf.Tensor4D;
  /** D [B,H,W,K], positive: each logit's own variance on top of the low-rank part. */
  diagonal: tf.Tensor4D;
  /** P [B,H,W,K,r]: logit (h,w,k) is μ + Σ_ρ P[h,w,k,ρ]·ε_ρ + √D·ε_hwk with ε ~ N(0, I). */
  factor: tf.Tensor5D;
}

/**
 * Deviations η − μ of S draws per image, from given standard-normal noise (the caller seeds it):
 * P·εᵣ + √D·ε_d. One batched matmul [S,r]×[r,H·W·K] per image carries the low-rank part.
 * @param factorNoise εᵣ [B,S,r]
 * @param diagonalNoise ε_d [B,S,H,W,K]
 * @returns [B,S,H,W,K]; caller owns it.
 */
export function logitDeviations(dist: LowRankLogits, factorNoise: tf.Tensor3D, diagonalNoise: tf.Tensor5D): tf.Tensor5D {
  return tf.tidy('probunet/ssn-deviations', () => {
    const [b, h, w, k, r] = dist.factor.shape;
    const s = factorNoise.shape[1];
    const lowRank = tf.matMul(factorNoise, tf.reshape(dist.factor, [b, h * w * k, r]), false, true);
    const diagonal = tf.mul(tf.expandDims(tf.sqrt(dist.diagonal), 1), diagonalNoise);
    return tf.add(tf.reshape(lowRank, [b, s, h, w, k]), diagonal) as tf.Tensor5D;
  });
}

/**
 * The Monte-Carlo log-likelihood of each image's annotation under the SSN, as the authors' loss
 * (ssn/trainer/losses.py) computes it: log (1/M) Σ_m p(y | η_m), with log p(y | η) = Σ_pixels
 * log softmax(η)[y] (ignore pixels, all-zero rows of `oneHot`, count nothing). The sum over m is a
 * log-sum-exp, so per-image log-likelihoods of −10⁵ neither underflow nor give NaN gradients.
 * @param deviations η − μ [B,S,H,W,K] (from `logitDeviations`)
 * @param antithetic use each deviation with both signs (M = 2S), as the authors' `fixed_re_parametrization_trick`; else M = S.
 * @returns [B]; caller owns it.
 */
export function monteCarloLogLikelihood(mean: tf.Tensor4D, deviations: tf.Tensor5D, oneHot: tf.Tensor4D, antithetic: boolean): tf.Tensor1D {
  return tf.tidy('probunet/ssn-mc-likelihood', () => {
    const mu = tf.expandDims(mean, 1);
    /** log p(y | η) per draw, [B,S] (one fused kernel each way on native and wasm-native). */
    const logLikelihoods = (logits: tf.Tensor) => drawLogLikelihoods(logits, oneHot);
    // The two signs' likelihoods are joined per draw ([B,S] each), not their logits: the gradient
    // of a concat along axis 1 of [B,2S,H,W,K] is a SplitV that took 60 % of a LIDC step on native.
    const perSample = antithetic ? tf.concat([logLikelihoods(tf.add(mu, deviations)), logLikelihoods(tf.sub(mu, deviations))], 1) : logLikelihoods(tf.add(mu, deviations));
    return tf.sub(tf.logSumExp(perSample, 1), Math.log(perSample.shape[1]!)) as tf.Tensor1D;
  });
}
