#!/usr/bin/env node
import { launch } from "./launch.js";

await launch("hearth", new URL("../src/cli/hearth.ts", import.meta.url));
