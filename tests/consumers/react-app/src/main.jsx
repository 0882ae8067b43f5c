// The scenarios of tests/e2e/react.test.mjs, one per page load (?scenario=…&run=…):
//   tanstack-dedupe, swr-dedupe   two components, one key
//   tanstack-abort, swr-abort     one component, unmounted (window.app.hide()) while its request runs
//   tanstack-error, swr-error     an HTTP 500 with retries off, caught by an error boundary
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from 'fetchlane';
import { ErrorBoundary } from './show.jsx';
import { SWRApp, SWRItem } from './swr.jsx';
import { queryClient, TanStackApp, TanStackItem } from './tanstack.jsx';

const params = new URLSearchParams(location.search);
const run = params.get('run') ?? 'react-app';
const scenario = params.get('scenario') ?? 'tanstack-dedupe';
const tagged = (path) => `${path}${path.includes('?') ? '&' : '?'}run=${encodeURIComponent(run)}`;

const LIBRARIES = {
  tanstack: { App: TanStackApp, Item: TanStackItem },
  swr: { App: SWRApp, Item: SWRItem },
};

/** Shows its children until window.app.hide() unmounts them. */
function Toggle({ children }) {
  const [shown, setShown] = useState(true);
  window.app.hide = () => setShown(false);
  return shown ? children : <p className="hidden" data-state="hidden">unmounted</p>;
}

function Scenario({ client }) {
  const [library, what] = scenario.split('-');
  const { App, Item } = LIBRARIES[library];
  const items = {
    dedupe: (
      <>
        <Item client={client} url={tagged('/items/shared?latency=300')} name="first" />
        <Item client={client} url={tagged('/items/shared?latency=300')} name="second" />
      </>
    ),
    abort: (
      <Toggle>
        <Item client={client} url={tagged(library === 'swr' ? '/items/slow?latency=4000' : '/hang')} name="slow" />
      </Toggle>
    ),
    error: (
      <ErrorBoundary name="boundary">
        <Item client={client} url={tagged('/status/500')} name="failing" />
      </ErrorBoundary>
    ),
  };
  return <App>{items[what]}</App>;
}

async function main() {
  const client = await createClient({ retry: 0 });
  window.app = { client, queryClient, stats: () => client.stats() };
  createRoot(document.getElementById('root')).render(<Scenario client={client} />);
  document.body.dataset.status = 'ready';
}

main().catch((error) => {
  document.getElementById('error').textContent = String(error?.stack ?? error);
  document.body.dataset.status = 'error';
});
