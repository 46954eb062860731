// The Trellis quickstart in plain JavaScript, as the documentation writes it: authenticate,
// pick an integration, create a chat, send a message, and read the SSE stream with fetch() and
// a line-by-line "event:" / "data:" loop. Each event is printed as one JSON line on stdout.
//
//   TRELLIS_BASE_URL=... TRELLIS_API_KEY=... TRELLIS_EMAIL=... QUESTION="..." node sse_reader.mjs

const BASE_URL = process.env.TRELLIS_BASE_URL;
const API_KEY = process.env.TRELLIS_API_KEY;
const EMAIL = process.env.TRELLIS_EMAIL;
const QUESTION = process.env.QUESTION ?? "What tables are there?";

async function authenticate() {
  const response = await fetch(`${BASE_URL}/v1/authenticate`, {
    method: "POST",
    headers: { "X-API-Key": API_KEY, "Content-Type": "application/json" },
    body: JSON.stringify({ email: EMAIL }),
  });
  if (!response.ok) throw new Error(`authenticate: ${response.status}`);
  const { token } = await response.json();
  return token;
}

async function main() {
  const token = await authenticate();
  const auth = { Authorization: `Bearer ${token}` };

  const { integrations } = await (await fetch(`${BASE_URL}/v1/integrations`, { headers: auth })).json();
  const integrationId = integrations[0].id;

  const created = await fetch(`${BASE_URL}/v1/chats/create`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "From Node", integration_id: integrationId }),
  });
  const chat = await created.json();
  console.log(JSON.stringify({ created: created.status, chat_id: chat.id }));

  const response = await fetch(`${BASE_URL}/v1/chats`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify({ message: QUESTION, chat_id: chat.id, integration_id: integrationId }),
  });

  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let currentEvent = null;

  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop();
    for (const line of lines) {
      if (line.startsWith("event: ")) {
        currentEvent = line.slice(7);
      } else if (line.startsWith("data: ")) {
        const data = JSON.parse(line.slice(6));
        console.log(JSON.stringify({ event: currentEvent, data }));
      }
    }
  }
}

main().catch((error) => {
  console.error(String(error));
  process.exit(1);
});
