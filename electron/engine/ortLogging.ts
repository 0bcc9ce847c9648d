// ONNX Runtime's process-wide logger, set before the first session: only fatal errors. Its
// default prints errors for what the engine handles itself, such as a missing CUDA provider
// library while the provider chain is decided (providers.ts reports that in one calm line).
// Sessions keep their own log level (logSeverityLevel). VSW_ORT_LOG_LEVEL=verbose|info|warning|
// error|fatal overrides it for debugging.
import * as ort from 'onnxruntime-node';

const LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

const wanted = process.env.VSW_ORT_LOG_LEVEL;
ort.env.logLevel = LEVELS.includes(wanted as Level) ? (wanted as Level) : 'fatal';
