// What the scenarios render, with data attributes the test reads; and the error boundary.
import { Component } from 'react';
import { FetchlaneError, isFetchlaneError } from 'fetchlane';

export function Item({ name, data }) {
  return (
    <p className="item" data-name={name} data-state={data === undefined ? 'loading' : 'ok'}>
      {data === undefined ? 'loading…' : JSON.stringify(data)}
    </p>
  );
}

export class ErrorBoundary extends Component {
  state = { error: null };

  static getDerivedStateFromError(error) {
    return { error };
  }

  render() {
    const { error } = this.state;
    if (error === null) return this.props.children;
    const seen = {
      instance: error instanceof FetchlaneError,
      guard: isFetchlaneError(error),
      name: error?.name,
      kind: error?.kind,
      status: error?.status,
      attempts: error?.attempts,
    };
    return (
      <p className="boundary" data-name={this.props.name} data-state="error" data-error={JSON.stringify(seen)}>
        {String(error)}
      </p>
    );
  }
}
