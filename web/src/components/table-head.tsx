/** A table's header row: a column a heading, and last, when `hidden` names one, a column headed only for assistive technology (its row actions). */
export function TableHead({ columns, hidden }: { columns: readonly string[]; hidden?: string | false }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
        {hidden && (
          <th scope="col">
            <span className="visually-hidden">{hidden}</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
