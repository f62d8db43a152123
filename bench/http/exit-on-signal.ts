// Preloaded into a profiled server: exit normally on SIGTERM/SIGINT so node writes its --cpu-prof file.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
