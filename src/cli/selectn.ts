#!/usr/bin/env node
// Entry point of the `selectn` command (run as `npx selectn ...` from a clone after `npm ci`).
import { run } from './main.ts';

process.exitCode = await run(process.argv.slice(2));
