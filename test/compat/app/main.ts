// The app of the cells without the optional peers: the main entry only.
import { runElectionApp } from './election-app.js';

runElectionApp().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
