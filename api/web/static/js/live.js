// The live stream of one site (GET /sites/{site}/live, server-sent events) read with fetch().
//
// EventSource cannot send an Authorization header, so the stream is read with fetch() and
// parsed here. It reconnects by itself, with the last event id (`Last-Event-ID`) so the server
// replays what was missed: after 0.5 s, then doubling up to 8 s while the server is away. A
// stream that has been silent for 3 heartbeats (45 s; the server sends one every 15 s) is taken
// for dead and reopened. States: connecting -> live -> reconnecting -> live … ; stopped.
//
//   const live = new LiveStream(site, {onEvent(name, data, id), onState(state), onAuthError(e),
//                                      onReconnect()});
//   live.start(); … live.stop();

import { API, AuthError, authHeaders, errorFor, sitePath } from './api.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;
const SILENCE_MS = 45000;

/** Parse SSE text incrementally: feed(chunk) -> [{event, data, id}] of the completed events. */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.reset();
  }

  reset() {
    this.event = '';
    this.data = [];
    this.id = null;
  }

  feed(chunk) {
    this.buffer += chunk;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop();
    const out = [];
    for (const line of lines) {
      if (line === '') {
        if (this.data.length || this.event) {
          out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        }
        this.reset();
      } else if (!line.startsWith(':')) {
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') this.event = value;
        else if (field === 'data') this.data.push(value);
        else if (field === 'id') this.id = value;
      }
    }
    return out;
  }
}

export class LiveStream {
  constructor(site, handlers) {
    this.site = site;
    this.handlers = handlers;
    this.lastEventId = null;
    this.state = 'stopped';
    this.retryMs = FIRST_RETRY_MS;
    this.connections = 0;
    this.controller = null;
    this.timer = null;
  }

  start() {
    if (this.state !== 'stopped') return;
    this.stopped = false;
    this.setState('connecting');
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.controller?.abort();
    this.setState('stopped');
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.handlers.onState?.(state);
  }

  async open() {
    this.controller = new AbortController();
    const headers = { Accept: 'text/event-stream', ...authHeaders() };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    try {
      const url = `${API}${sitePath(this.site, '/live')}`;
      const response = await fetch(url, { headers, signal: this.controller.signal, cache: 'no-store' });
      if (!response.ok) throw await errorFor(response);
      await this.read(response.body.getReader());
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof AuthError) {
        this.stop();
        this.handlers.onAuthError?.(error);
        return;
      }
      if (error.status === 404 || error.status === 403) {
        this.stop(); // unknown site or not allowed: retrying will not help
        this.handlers.onError?.(error);
        return;
      }
    }
    if (!this.stopped) this.retry();
  }

  async read(reader) {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    this.connected();
    for (;;) {
      this.armWatchdog();
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
        if (event.id) this.lastEventId = event.id;
        this.dispatch(event);
      }
    }
  }

  connected() {
    this.connections += 1;
    this.retryMs = FIRST_RETRY_MS;
    this.setState('live');
    if (this.connections > 1) this.handlers.onReconnect?.(this.lastEventId !== null);
  }

  dispatch(event) {
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not ours
    }
    this.handlers.onEvent?.(event.event, data, event.id);
  }

  armWatchdog() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.controller?.abort(), SILENCE_MS);
  }

  retry() {
    clearTimeout(this.watchdog);
    this.setState('reconnecting');
    this.timer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
