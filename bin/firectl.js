#!/usr/bin/env node
import { launch } from "./launch.js";

await launch("firectl", new URL("../src/cli/firectl/main.ts", import.meta.url));
