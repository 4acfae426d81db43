/**
 * What `exp data get dcase2020-task2` downloads: the official DCASE 2020 Task 2 archives on Zenodo.
 *
 * Sources (none of Zenodo could be reached from where this was written, so every value is quoted
 * from public copies, and says which):
 * - Records and file names: development dataset, Zenodo record 3678171 (dev_data_<type>.zip);
 *   additional training dataset, record 3727685 (eval_data_train_<type>.zip); evaluation dataset,
 *   record 3841772 (eval_data_test_<type>.zip). The same URLs are in nttcslab/dcase2023_task2_baseline_ae
 *   tools/data_download_2020.sh and in soundata/soundata soundata/datasets/dcase2020task2.py.
 * - MD5 checksums: soundata/soundata, soundata/datasets/dcase2020task2.py (REMOTES[...].checksum;
 *   soundata verifies downloads with MD5), which copies the md5 Zenodo publishes per file.
 * - Sizes: Zenodo lists them, but no copy of that page was found. The four MIMII development archives'
 *   sizes (fan 1.4 GB, pump 1.0 GB, slider 1.1 GB, valve 1.1 GB) are quoted from a third-party
 *   project README and ToyCar's (1.8 GB) from a third-party loader's comment: approximate, rounded to
 *   0.1 GB. The other sizes are unknown here (null); the server's Content-Length is used when it
 *   sends one.
 * - Layout inside each archive: `<type>/train/normal_id_XX_NNNNNNNN.wav` and `<type>/test/...`
 *   (the loaders above unzip dev_data_ToyCar.zip and read `ToyCar/train`, `ToyCar/test`).
 *   Evaluation test clips are named `id_XX_NNNNNNNN.wav`, without normal/anomaly: their labels
 *   were published later, separately (soundata's loader returns no tag for them).
 */

export const DATASET_NAME = 'dcase2020-task2';

export const MACHINE_TYPES = ['fan', 'pump', 'slider', 'valve', 'ToyCar', 'ToyConveyor'] as const;
export type MachineType = (typeof MACHINE_TYPES)[number];

/** dev = development set; eval = additional training + evaluation test clips. */
export const PARTS = ['dev', 'eval', 'all'] as const;
export type Part = (typeof PARTS)[number];

export type ArchiveKind = 'dev' | 'eval-train' | 'eval-test';

export interface Archive {
  file: string;
  kind: ArchiveKind;
  type: string;
  /** Zenodo record the file is published in. */
  record: string;
  /** Published MD5 (hex), or null when none could be found: such a file is only unpacked with --allow-unverified. */
  md5: string | null;
  /** Approximate size in bytes, or null when unknown. */
  approxBytes: number | null;
}

/** Root sub-directory each kind unpacks into: dev_data is a training root `exp data check` accepts. */
export const UNPACK_DIR: Readonly<Record<ArchiveKind, string>> = {
  dev: 'dev_data',
  'eval-train': 'eval_data',
  'eval-test': 'eval_data',
};

const RECORD: Readonly<Record<ArchiveKind, string>> = {
  dev: '3678171',
  'eval-train': '3727685',
  'eval-test': '3841772',
};
const PREFIX: Readonly<Record<ArchiveKind, string>> = {
  dev: 'dev_data_',
  'eval-train': 'eval_data_train_',
  'eval-test': 'eval_data_test_',
};

const GB = 1e9;

/** MD5 per file: soundata/soundata soundata/datasets/dcase2020task2.py. */
const MD5: Readonly<Record<string, string>> = {
  'dev_data_fan.zip': '649bdfc06263ae7a838963f43b6641e6',
  'dev_data_pump.zip': '90e7091ef722b7238a7f1009365779cd',
  'dev_data_slider.zip': 'da24a757719f0d94d5aa2d646bbfdc86',
  'dev_data_ToyCar.zip': '4dec75ca8d9f666aa9e4c1894a740501',
  'dev_data_ToyConveyor.zip': '03b6aa1bfd09a39d53af0ba39f71fa91',
  'dev_data_valve.zip': '34d2672f55bb041589ef79c10dc89934',
  'eval_data_train_fan.zip': '567798854130c8019df8b664c095ed1e',
  'eval_data_train_pump.zip': '4e33ae9c0db5cc88437675f5e317caee',
  'eval_data_train_slider.zip': 'f84f186f4295fc23754abcdd1b0580a7',
  'eval_data_train_ToyCar.zip': 'a5d4ccd498af70b04dd74b644b820006',
  'eval_data_train_ToyConveyor.zip': '0e808ac0b761e9fb13d5e0c65caff00d',
  'eval_data_train_valve.zip': '057cdd560caffb8305449541afd28c6d',
  'eval_data_test_fan.zip': '1eb9356a768cadfd0f2e59a5c57e578b',
  'eval_data_test_pump.zip': '23a8f8f924be218c69df67fe07360348',
  'eval_data_test_slider.zip': '0193c769073840332ce3aad84b1ccaa2',
  'eval_data_test_ToyCar.zip': 'bea2bdd612f616be8f2b8eb087b32c7c',
  'eval_data_test_ToyConveyor.zip': 'ccfcc9847c7d3404d7ee9d6d9e0b2ba2',
  'eval_data_test_valve.zip': 'f69c551d2088691050d20cccca9d631c',
};

/** Approximate sizes quoted by third-party READMEs (see the header); everything else unknown. */
const APPROX_BYTES: Readonly<Record<string, number>> = {
  'dev_data_fan.zip': 1.4 * GB,
  'dev_data_pump.zip': 1.0 * GB,
  'dev_data_slider.zip': 1.1 * GB,
  'dev_data_valve.zip': 1.1 * GB,
  'dev_data_ToyCar.zip': 1.8 * GB,
};

function archive(kind: ArchiveKind, type: string): Archive {
  const file = `${PREFIX[kind]}${type}.zip`;
  return { file, kind, type, record: RECORD[kind], md5: MD5[file] ?? null, approxBytes: APPROX_BYTES[file] ?? null };
}

/** Every archive of the dataset, dev first, in MACHINE_TYPES order. */
export const ARCHIVES: readonly Archive[] = [
  ...MACHINE_TYPES.map((t) => archive('dev', t)),
  ...MACHINE_TYPES.flatMap((t) => [archive('eval-train', t), archive('eval-test', t)]),
];

const KINDS_OF: Readonly<Record<Part, readonly ArchiveKind[]>> = {
  dev: ['dev'],
  eval: ['eval-train', 'eval-test'],
  all: ['dev', 'eval-train', 'eval-test'],
};

export function selectArchives(archives: readonly Archive[], types: readonly string[], part: Part): Archive[] {
  return archives.filter((a) => types.includes(a.type) && KINDS_OF[part].includes(a.kind));
}

/** The official URL (Zenodo), or `<mirror>/<file>` for a mirror holding the same file names. */
export function archiveUrl(a: Archive, mirror: string | null): string {
  if (mirror !== null) return `${mirror.replace(/\/+$/, '')}/${encodeURIComponent(a.file)}`;
  return `https://zenodo.org/record/${a.record}/files/${encodeURIComponent(a.file)}?download=1`;
}
