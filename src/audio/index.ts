export { readWav, decodeWav, writeWav, encodeWav, fitLength } from './wav.js';
