import { sorterSuite } from './sorter-suite';

sorterSuite(2, { load: true });
sorterSuite(4);
