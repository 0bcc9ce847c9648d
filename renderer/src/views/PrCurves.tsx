// Both runs' precision–recall curves on one chart, the matched recall as a vertical line and each
// run's operating point at it as a dot.
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceDot,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { CompareResult } from '../../../electron/contract/compare';

export const RUN_COLOURS = ['#ff8a5c', '#5cc8ff'] as const;

const axis = { stroke: '#9aa3b2', tick: { fill: '#9aa3b2', fontSize: 12 } };

export function PrCurves({ result }: { result: CompareResult }) {
  const series = [result.curves.a, result.curves.b].map((curve) =>
    curve.map(([recall, precision]) => ({ recall, precision })),
  );
  return (
    <figure className="pr-curves" aria-label="Precision–recall curves">
      <ResponsiveContainer width="100%" height={340}>
        <LineChart margin={{ top: 12, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#2c313b" />
          <XAxis
            {...axis}
            type="number"
            dataKey="recall"
            domain={[0, 1]}
            ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]}
            label={{
              value: `recall of ${result.class}`,
              position: 'insideBottom',
              offset: -12,
              fill: '#9aa3b2',
            }}
          />
          <YAxis
            {...axis}
            type="number"
            domain={[0, 1]}
            ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]}
            label={{ value: 'precision', angle: -90, position: 'insideLeft', fill: '#9aa3b2' }}
          />
          <Tooltip
            contentStyle={{ background: '#1d2027', border: '1px solid #2c313b' }}
            formatter={(v) => Number(v).toFixed(3)}
            labelFormatter={(v) => `recall ${Number(v).toFixed(3)}`}
          />
          <Legend verticalAlign="top" />
          {result.runs.map((run, k) => (
            <Line
              key={run.id}
              data={series[k]}
              dataKey="precision"
              name={`${k ? 'B' : 'A'}: #${run.id} ${run.model}`}
              stroke={RUN_COLOURS[k]}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
            />
          ))}
          <ReferenceLine
            x={result.matchedRecall}
            stroke="#e6e6e6"
            strokeDasharray="4 4"
            label={{
              value: `matched recall ${result.matchedRecall.toFixed(3)}`,
              position: 'insideBottomRight',
              fill: '#e6e6e6',
              fontSize: 12,
            }}
          />
          {result.runs.map((run, k) => (
            <ReferenceDot
              key={run.id}
              x={run.recall}
              y={run.precision ?? 0}
              r={6}
              fill={RUN_COLOURS[k]}
              stroke="#fff"
              strokeWidth={2}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="muted">
        Dots: each run at its matched-recall threshold (A {result.runs[0].threshold.toFixed(4)}, B{' '}
        {result.runs[1].threshold.toFixed(4)}).
      </figcaption>
    </figure>
  );
}
