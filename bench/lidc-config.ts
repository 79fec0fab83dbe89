/** The LIDC configuration every benchmark case uses (the common practice for 128×128 crops). */
export const LIDC_CONFIG = { inputChannels: 1, numClasses: 2, channels: [32, 64, 128, 192], convsPerBlock: 3, latentDim: 6, num1x1Convs: 3 };

/**
 * `probunet reproduce --task cityscapes-like`'s models (32×64 RGB, 24 classes, U-Net [16, 32, 64]
 * with 2 convs per block), for the benches' `--task cityscapes-like`.
 */
export const CITYSCAPES_LIKE_CONFIG = { ...LIDC_CONFIG, inputChannels: 3, numClasses: 24, channels: [16, 32, 64], convsPerBlock: 2 };
export const CITYSCAPES_LIKE_SIZE = { height: 32, width: 64 };

export interface Layer { name: string; hw: number; cin: number; cout: number; count: number; firstOfNet: boolean }

/** The 3×3 convolutions of a train step; identical shapes are timed once and counted (bench/native-layers.ts and bench/webgpu-layer-times.ts). */
export function lidcConvLayers(size: number): Layer[] {
  const { channels: ch, convsPerBlock: k } = LIDC_CONFIG;
  const out = new Map<string, Layer>();
  const add = (name: string, hw: number, cin: number, cout: number, firstOfNet = false) => {
    const key = `${hw}:${cin}:${cout}:${firstOfNet}`;
    const l = out.get(key);
    if (l) l.count++;
    else out.set(key, { name, hw, cin, cout, count: 1, firstOfNet });
  };
  const down = (net: string, cin: number) => {
    let c = cin;
    ch.forEach((cout, i) => {
      for (let j = 0; j < k; j++) {
        add(`${net} down ${i}.${j}`, Math.ceil(size / 2 ** i), c, cout, i === 0 && j === 0);
        c = cout;
      }
    });
  };
  down('encoders', LIDC_CONFIG.inputChannels);
  down('encoders', LIDC_CONFIG.inputChannels);
  down('encoders', LIDC_CONFIG.inputChannels + LIDC_CONFIG.numClasses);
  for (let i = ch.length - 2; i >= 0; i--) {
    let c = ch[i + 1]! + ch[i]!;
    for (let j = 0; j < k; j++) {
      add(`U-Net up ${i}.${j}`, Math.ceil(size / 2 ** i), c, ch[i]!);
      c = ch[i]!;
    }
  }
  return [...out.values()];
}
