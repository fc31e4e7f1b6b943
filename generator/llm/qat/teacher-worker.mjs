// Worker entry of the QAT teacher feed (teacher-feed.ts): registers tsx so the worker can load the TypeScript
// sources (the same way bin/lutforge.js does for the CLI), then runs teacher-thread.ts.
import { register } from 'tsx/esm/api';

register();
await import('./teacher-thread.ts');
