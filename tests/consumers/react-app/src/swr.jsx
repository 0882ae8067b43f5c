// fetchlane under SWR: the fetcher is the client. SWR passes the key only (no AbortSignal), so
// a request SWR no longer needs runs to its end; bound it with fetchlane's `timeoutMs` if that
// matters. docs/recipes.md quotes this file.
import useSWR, { SWRConfig } from 'swr';
import { Item } from './show.jsx';

export function SWRItem({ client, url, name }) {
  const { data, error } = useSWR(url, (url) => client.json(url));
  if (error) throw error; // to the nearest error boundary, as a FetchlaneError
  return <Item name={name} data={data} />;
}

// One layer retries: fetchlane (client option `retry`), not SWR as well.
export function SWRApp({ children }) {
  return <SWRConfig value={{ shouldRetryOnError: false }}>{children}</SWRConfig>;
}
