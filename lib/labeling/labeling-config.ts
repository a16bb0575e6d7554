import type { LabelClassSpec } from '../spec/labeling-spec';

/**
 * The Label Studio labeling config of a model, generated from its classes: the row as text, and
 * one single choice per class, named as the spec names it. Annotations and pre-annotations name
 * the class; Retrain maps the name back to the class value (its index in the probabilities).
 */

/** Names of the config's tags, which every annotation result refers to. */
export const CHOICES_TAG = 'label';
export const TEXT_TAG = 'row';

export function labelingConfig(classes: readonly LabelClassSpec[]): string {
  const choices = [...classes]
    .sort((a, b) => a.value - b.value)
    .map((c) => `    <Choice value="${xmlAttribute(c.name)}"/>`)
    .join('\n');
  return [
    '<View>',
    `  <Text name="${TEXT_TAG}" value="$text"/>`,
    `  <Choices name="${CHOICES_TAG}" toName="${TEXT_TAG}" choice="single-radio" showInline="true" required="true">`,
    choices,
    '  </Choices>',
    '</View>',
  ].join('\n');
}

/** An annotation (or pre-annotation) result choosing one class. */
export function choiceResult(className: string): { from_name: string; to_name: string; type: 'choices'; value: { choices: string[] } } {
  return { from_name: CHOICES_TAG, to_name: TEXT_TAG, type: 'choices', value: { choices: [className] } };
}

/**
 * The class an annotation's result chose: the value of the class named by its `label` choice.
 * Null when it chose none; an error naming the choice when it is not one of the classes (the
 * project's config was edited by hand).
 */
export function chosenClass(result: readonly { from_name: string; type: string; value: { choices?: string[] } }[], classes: readonly LabelClassSpec[]): number | null {
  const choice = result.find((r) => r.from_name === CHOICES_TAG && r.type === 'choices')?.value.choices?.[0];
  if (choice === undefined) return null;
  const found = classes.find((c) => c.name === choice);
  if (!found) throw new Error(`the annotation chose '${choice}', which is none of the model's classes (${classes.map((c) => c.name).join(', ')}): was the project's labeling config changed by hand?`);
  return found.value;
}

function xmlAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
