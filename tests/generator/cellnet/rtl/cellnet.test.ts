import { sorterSuite } from './sorter-suite';

// ppc 2 and 4 run the same suite in cellnet.long.test.ts (each ppc is a separate multi-minute Verilator build on a cold cache).
sorterSuite(1);
sorterSuite(8, { load: true });
