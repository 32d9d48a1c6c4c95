// Numbers as the pages print them: locale-free, so equal inputs give equal bytes.

/** Fixed digits, trailing zeros dropped, thousands separated: locale-free. */
export function formatNumber(n: number | null, digits = 3): string {
  if (n === null) return '—';
  const [int, frac = ''] = Math.abs(n).toFixed(digits).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const trimmed = frac.replace(/0+$/, '');
  return `${n < 0 && (Number(int) > 0 || trimmed !== '') ? '−' : ''}${grouped}${trimmed ? `.${trimmed}` : ''}`;
}
