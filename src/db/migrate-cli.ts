/**
 * `npm run db:migrate`: apply migrations to DATABASE_URL (the Postgres behind a Workers deployment,
 * or any server before the first start). The Node server also migrates itself at start.
 */
import { migratePostgresUrl } from "./migrate";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    "DATABASE_URL is not set: point it at the Postgres to migrate (postgres://user@host:5432/db)",
  );
  process.exit(1);
}
await migratePostgresUrl(url);
console.log("migrations applied");
