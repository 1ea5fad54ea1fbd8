/**
 * @module
 * The console's page shell, rendered on the server with Hono's JSX. It holds no secret and no
 * data: the script (`/console/app.js`) reads the key from the tab's sessionStorage and fills the
 * page from the JSON API. Without a key it shows the key form.
 */
import { CONSOLE_STYLES } from "./styles";

export function ConsolePage() {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>Context Relay console</title>
        <style>{CONSOLE_STYLES}</style>
        <script src="/console/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header>
          <h1>
            <a href="#/">Context Relay console</a>
          </h1>
          <nav id="nav" aria-label="Console"></nav>
        </header>
        <main id="main" tabindex={-1}>
          <noscript>The console needs JavaScript: it reads your key from this tab only and calls the API with it.</noscript>
        </main>
        <p id="status" role="status" aria-live="polite"></p>
      </body>
    </html>
  );
}
