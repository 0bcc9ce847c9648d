// A single-choice select with its visible caption: the label the whole renderer uses for filters,
// toolbars, settings and the export dialog. `name` is the accessible name the tests and screen
// readers know it by (the caption unless given).
import type { ReactNode } from 'react';

interface Props<T extends string> {
  caption: ReactNode;
  name?: string;
  value: T;
  onChange(value: NoInfer<T>): void;
  disabled?: boolean;
  className?: string;
  children: ReactNode;
}

export function LabelledSelect<T extends string>({
  caption,
  name,
  value,
  onChange,
  disabled,
  className,
  children,
}: Props<T>) {
  return (
    <label className={className}>
      {caption}
      <select
        aria-label={name ?? (typeof caption === 'string' ? caption : undefined)}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value as T)}
      >
        {children}
      </select>
    </label>
  );
}

/** One option per text, the text being both value and caption (classes, tags). */
export function TextOptions({ values }: { values: readonly string[] }) {
  return values.map((v) => (
    <option key={v} value={v}>
      {v}
    </option>
  ));
}
