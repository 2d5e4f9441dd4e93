// NGSI-LD names: the short form of an expanded attribute or type IRI.
export function shortName(iri: string): string {
  const cut = Math.max(iri.lastIndexOf('/'), iri.lastIndexOf('#'));
  return cut < 0 ? iri : iri.slice(cut + 1);
}
