/** Machine IDs of DCASE 2020 Task 2 (§2.4): the class count of the paper's head. */
export const DCASE_CLASSES = 41;
