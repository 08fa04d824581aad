import { describe, expect, it } from 'vitest';
import { chatLines } from '../text/pair-lines.ts';
import { pairFromChat } from './protocol.ts';

describe('the pair in a chat message', () => {
  const pair = { query: 'red drill 18v', title: 'Bosch cordless\ndrill', brand: 'Bosch', category: 'Tools', attributes: { voltage: '18V', 'pack; size': 'a;b' }, description: 'A drill.' };

  it('reads back what chatLines writes (one-line values, ; and = escaped in attributes)', () => {
    expect(pairFromChat([{ role: 'user', content: chatLines(pair) }])).toEqual({
      ...pair,
      title: 'Bosch cordless drill',
      attributes: { voltage: '18V', 'pack  size': 'a,b' },
    });
  });

  it('takes JSON or field lines from the last user message and ignores other lines', () => {
    const msgs = [
      { role: 'system' as const, content: 'query: not this one' },
      { role: 'user' as const, content: 'query: old\ntitle: old' },
      { role: 'assistant' as const, content: 'Answer: Exact' },
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'Grade this please.\nQuery: sofa\nProduct: Garden hose, 20 m\nNote: thanks' }] },
    ];
    expect(pairFromChat(msgs)).toEqual({ query: 'sofa', title: 'Garden hose, 20 m' });
    expect(pairFromChat([{ role: 'user', content: '{"query": "a", "title": "b", "color": "red"}' }])).toEqual({ query: 'a', title: 'b', color: 'red' });
  });

  it('says what is missing', () => {
    expect(pairFromChat([{ role: 'user', content: 'query: sofa' }])).toEqual({ error: expect.stringMatching(/must name a query and a product title.*title/) });
    expect(pairFromChat([{ role: 'user', content: '{"query": ' }])).toEqual({ error: expect.stringMatching(/not valid JSON/) });
    expect(pairFromChat([{ role: 'system', content: 'hi' }])).toEqual({ error: 'messages: no user message to grade' });
  });
});
