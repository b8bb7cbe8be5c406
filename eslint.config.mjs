// The repository's ESLint configuration lives with its tools in tools/lint (see there).
export { default } from './tools/lint/eslint.config.mjs';
