/** Text for an HTML page: the five characters that could end an element or an attribute, as entities. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
