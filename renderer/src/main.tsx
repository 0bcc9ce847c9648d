// Renderer entry: connect to the service, then mount the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connect } from './client/connect';
import { ConnectionContext } from './state/connection';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
connect()
  .then((connection) =>
    root.render(
      <StrictMode>
        <ConnectionContext.Provider value={connection}>
          <App />
        </ConnectionContext.Provider>
      </StrictMode>,
    ),
  )
  .catch((error: Error) => root.render(<p role="alert">Cannot start: {error.message}</p>));
