import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HFTokenizerImpl } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { UserError } from '../../util/errors.ts';

/**
 * A model's own tokenizer from tokenizer.json, through @huggingface/tokenizers (pure TS, Apache-2.0,
 * no network: it is handed the parsed files). No special token is added unless tokenizer_config.json
 * asks (add_bos_token / add_eos_token); chat prompts go through the model's chat_template (Jinja,
 * @huggingface/jinja) when it has one.
 */
export class HFTokenizer {
  private constructor(
    private readonly impl: HFTokenizerImpl,
    readonly config: Record<string, unknown>,
    readonly file: string,
  ) {}

  static fromDir(dir: string): HFTokenizer {
    const file = join(dir, 'tokenizer.json');
    if (!existsSync(file)) throw new UserError(`${dir}: no tokenizer.json`);
    const json = readJson(file);
    const cfgFile = join(dir, 'tokenizer_config.json');
    const cfg = existsSync(cfgFile) ? readJson(cfgFile) : {};
    let impl: HFTokenizerImpl;
    try {
      impl = new HFTokenizerImpl(json, cfg);
    } catch (e) {
      throw new UserError(`${file}: cannot build the tokenizer (${(e as Error).message})`);
    }
    return new HFTokenizer(impl, cfg, file);
  }

  get vocabSize(): number {
    return this.impl.get_vocab(true).size;
  }

  /** Token ids of `text`: BOS/EOS only where tokenizer_config.json says add_bos_token / add_eos_token. */
  encode(text: string): number[] {
    const ids = this.impl.encode(text, { add_special_tokens: false }).ids;
    const bos = this.config.add_bos_token === true ? this.specialId('bos_token') : undefined;
    const eos = this.config.add_eos_token === true ? this.specialId('eos_token') : undefined;
    return [...(bos !== undefined ? [bos] : []), ...ids, ...(eos !== undefined ? [eos] : [])];
  }

  decode(ids: number[]): string {
    return this.impl.decode(ids, { skip_special_tokens: false });
  }

  tokenToId(token: string): number | undefined {
    return this.impl.token_to_id(token);
  }

  /** Id of a special token named in tokenizer_config.json (a string or {content}). */
  specialId(key: 'bos_token' | 'eos_token' | 'pad_token' | 'unk_token'): number | undefined {
    const v = this.config[key];
    const s = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { content?: string }).content : undefined;
    return s === undefined ? undefined : this.impl.token_to_id(s);
  }

  get chatTemplate(): string | undefined {
    const t = this.config.chat_template;
    return typeof t === 'string' ? t : undefined;
  }

  /** Renders messages with the model's chat template (with the generation prompt), or undefined when it has none. */
  applyChatTemplate(messages: Array<{ role: string; content: string }>, addGenerationPrompt = true): string | undefined {
    const src = this.chatTemplate;
    if (!src) return undefined;
    const str = (k: string) => {
      const v = this.config[k];
      return typeof v === 'string' ? v : v && typeof v === 'object' ? ((v as { content?: string }).content ?? '') : '';
    };
    return new Template(src).render({ messages, add_generation_prompt: addGenerationPrompt, bos_token: str('bos_token'), eos_token: str('eos_token') });
  }
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
