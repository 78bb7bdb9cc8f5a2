/**
 * Regenerates docs/event-catalogue.md from the built-in event catalogue and its data schemas.
 * Run with `npx tsx scripts/generate-event-docs.ts` after changing catalogue.ts or payload-schemas/;
 * test/unit/event-catalogue.test.ts fails until the file is regenerated.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { EventCatalogue } from '../plugin/events/catalogue.js';
import { renderCatalogueMarkdown } from '../plugin/events/catalogue-markdown.js';

const target = new URL('../docs/event-catalogue.md', import.meta.url);

await mkdir(new URL('.', target), { recursive: true });
await writeFile(target, renderCatalogueMarkdown(new EventCatalogue()), 'utf8');
console.log(`wrote ${target.pathname}`);
