import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultKindAuc, type ScoredClip } from '../src/data/synth/fault-auc.js';
import type { LoadedManifest } from '../src/data/synth/manifest.js';

// Independent check by hand-counted pairs: AUC = P(anomalous score > normal score), ties 1/2.
test('faultKindAuc: per ID, normals against one kind of anomaly, then the mean over IDs', () => {
  const clip = (id: string, label: 0 | 1, score: number, n: number): ScoredClip => ({
    path: `/set/fan/test/${label ? 'anomaly' : 'normal'}_${id}_${n}.wav`,
    type: 'fan',
    id,
    label,
    score,
  });
  const clips = [
    clip('id_00', 0, 1, 0),
    clip('id_00', 0, 3, 1),
    clip('id_00', 1, 2, 2),
    clip('id_00', 1, 4, 3), // a: 2 beats 1 only (1/2); b: 4 beats both (1)
    clip('id_02', 0, 5, 0),
    clip('id_02', 1, 5, 1),
    clip('id_02', 1, 0, 2), // a: tie (1/2); b: 0 beats nothing (0)
  ];
  const kind: Record<string, string> = { id_00_2: 'a', id_00_3: 'b', id_02_1: 'a', id_02_2: 'b' };
  const manifest: LoadedManifest = {
    file: '/set/synth.json',
    generator: 3,
    clips: new Map(
      clips
        .filter((c) => c.label === 1)
        .map((c) => {
          const key = c.path.slice('/set/'.length);
          const name = key.split('/').pop()!.replace('anomaly_', '').replace('.wav', '');
          return [key, { file: key, label: 1, fault: kind[name]!, severity: 0.5, snrDb: 0 }] as const;
        }),
    ),
  } as unknown as LoadedManifest;
  const got = faultKindAuc(clips, manifest).get('fan')!;
  assert.equal(got.get('a'), (0.5 + 0.5) / 2);
  assert.equal(got.get('b'), (1 + 0) / 2);
});
