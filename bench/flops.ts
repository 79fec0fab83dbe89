/**
 * Multiply–accumulate counts of the Prob. U-Net, layer by layer from its configuration (convolutions
 * and the fusion head's 1×1 convs; pooling, resizing and element-wise ops are negligible and left
 * out). FLOPs = 2·MACs. A train step costs ≈ 3× the training forward pass (forward, input gradient,
 * filter gradient).
 */
export interface FlopConfig {
  inputChannels: number;
  numClasses: number;
  channels: number[];
  convsPerBlock: number;
  latentDim: number;
  num1x1Convs: number;
}

function downMacs(cin: number, channels: number[], convs: number, h: number, w: number): number {
  let macs = 0;
  let c = cin;
  channels.forEach((cout, i) => {
    const px = Math.ceil(h / 2 ** i) * Math.ceil(w / 2 ** i);
    for (let j = 0; j < convs; j++) {
      macs += px * 9 * c * cout;
      c = cout;
    }
  });
  return macs;
}

export function probUNetMacs(cfg: FlopConfig, h: number, w: number) {
  const { channels: ch, convsPerBlock: k } = cfg;
  let up = 0;
  for (let i = ch.length - 2; i >= 0; i--) {
    const px = Math.ceil(h / 2 ** i) * Math.ceil(w / 2 ** i);
    let c = ch[i + 1]! + ch[i]!;
    for (let j = 0; j < k; j++) {
      up += px * 9 * c * ch[i]!;
      c = ch[i]!;
    }
  }
  const unet = downMacs(cfg.inputChannels, ch, k, h, w) + up;
  const latentHead = ch[ch.length - 1]! * 2 * cfg.latentDim;
  const prior = downMacs(cfg.inputChannels, ch, k, h, w) + latentHead;
  const posterior = downMacs(cfg.inputChannels + cfg.numClasses, ch, k, h, w) + latentHead;
  const c0 = ch[0]!;
  const fusion = h * w * ((c0 + cfg.latentDim) * c0 + (cfg.num1x1Convs - 1) * c0 * c0 + c0 * cfg.numClasses);
  return { unet, prior, posterior, fusion };
}

/** FLOPs per image of one training step (forward of all four parts, ×3 for the backward pass). */
export function trainStepFlopsPerImage(cfg: FlopConfig, h: number, w: number): number {
  const m = probUNetMacs(cfg, h, w);
  return 3 * 2 * (m.unet + m.prior + m.posterior + m.fusion);
}

/** FLOPs per image of sampling n segmentations with shared features (U-Net and prior once). */
export function samplingFlopsPerImage(cfg: FlopConfig, h: number, w: number, n: number): number {
  const m = probUNetMacs(cfg, h, w);
  return 2 * (m.unet + m.prior + n * m.fusion);
}
