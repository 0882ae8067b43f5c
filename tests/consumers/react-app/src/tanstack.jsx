// fetchlane under TanStack Query: the queryFn hands TanStack's signal to fetchlane, so that
// TanStack's cancellation (the last observer gone) aborts the request at the network.
// docs/recipes.md quotes this file.
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { Item } from './show.jsx';

// One layer retries: fetchlane (client option `retry`), not TanStack as well.
export const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });

export function useItem(client, url) {
  return useQuery({
    queryKey: ['item', url],
    queryFn: ({ signal }) => client.json(url, { signal }),
    throwOnError: true, // errors go to the nearest error boundary, as FetchlaneErrors
  });
}

export function TanStackItem({ client, url, name }) {
  const { data, isPending } = useItem(client, url);
  return <Item name={name} data={isPending ? undefined : data} />;
}

export function TanStackApp({ children }) {
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
