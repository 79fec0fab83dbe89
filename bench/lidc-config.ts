/** The LIDC configuration every benchmark case uses (the common practice for 128×128 crops). */
export const LIDC_CONFIG = { inputChannels: 1, numClasses: 2, channels: [32, 64, 128, 192], convsPerBlock: 3, latentDim: 6, num1x1Convs: 3 };
