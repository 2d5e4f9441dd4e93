// Labels for server vocabularies that may hold values the dictionary does not know yet.
import { tOr } from './i18n';

export const attrLabel = (a: string) => tOr(`attr.${a}`, a);
export const typeLabel = (type: string) => tOr(`type.${type}`, type);
export const categoryLabel = (c: string) => tOr(`cat.${c}`, c.replace(/_/g, ' '));
