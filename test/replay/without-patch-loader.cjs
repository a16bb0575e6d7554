/**
 * Webpack loader for the replay tests: the workflow source with one `patched(<ID>)` guard replaced
 * by a constant, the way a change would look without its guard. Options: `guard`, the exact text
 * to replace (e.g. "patched(APPROVERS_FROM_POLICY)"), and `replacement` ("true"). Throws when the
 * guard is not in the file, so a renamed guard cannot make the test pass by replacing nothing.
 */
/* global module */
module.exports = function withoutPatch(source) {
  const { guard, replacement } = this.getOptions();
  if (!source.includes(guard)) throw new Error(`${this.resourcePath} does not contain ${guard}`);
  return source.split(guard).join(replacement);
};
