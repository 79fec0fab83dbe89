import type { ModelConfig, ParameterShapes } from '@probunet/core';
import { resolveSSNConfig, type SSNConfig } from './ssn-options.js';

/**
 * The parameter shapes an SSN config allocates, by checkpoint name, computed without building it
 * (a checkpoint whose header disagrees is refused before any tensor is made). The U-Net's are those
 * of core's `UNetEncoder` (down path, then per level [upsampled, skip] → channels[i]); a test checks
 * every shape against a built model.
 */
export function ssnParameterShapes(config: ModelConfig): ParameterShapes {
  const { inputChannels, channels: ch, convsPerBlock, numClasses, rank } = resolveSSNConfig(config as SSNConfig);
  const unet = new Map<string, number[]>();
  const conv = (name: string, cin: number, cout: number) => {
    unet.set(`unet/${name}/kernel`, [3, 3, cin, cout]);
    unet.set(`unet/${name}/bias`, [cout]);
  };
  let cin = inputChannels;
  ch.forEach((cout, i) => {
    for (let j = 0; j < convsPerBlock; j++, cin = cout) conv(`down${i}/conv${j}`, cin, cout);
  });
  for (let i = ch.length - 2; i >= 0; i--) {
    cin = ch[i + 1]! + ch[i]!;
    for (let j = 0; j < convsPerBlock; j++, cin = ch[i]!) conv(`up${i}/conv${j}`, cin, ch[i]!);
  }
  const head = (name: string, cout: number) =>
    new Map<string, number[]>([
      [`${name}/kernel`, [1, 1, ch[0]!, cout]],
      [`${name}/bias`, [cout]],
    ]);
  return new Map([
    ['unet', unet],
    ['mean', head('mean', numClasses)],
    ['logDiagonal', head('logDiagonal', numClasses)],
    ['factor', head('factor', numClasses * rank)],
  ]);
}
