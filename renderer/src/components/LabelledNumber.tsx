// A number field with its visible caption, which is also its accessible name (as LabelledSelect
// does for selects). The input's other attributes (value or defaultValue, bounds, handlers) pass
// through.
import type { InputHTMLAttributes } from 'react';

interface Props extends Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'aria-label'> {
  caption: string;
}

export function LabelledNumber({ caption, ...input }: Props) {
  return (
    <label>
      {caption}
      <input aria-label={caption} type="number" {...input} />
    </label>
  );
}
