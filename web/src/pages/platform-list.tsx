import { useState, type ReactNode } from "react";
import { api, filterString, lastSegment, query, type ApiError } from "../api.ts";
import { Icon, type IconName } from "../components/icons.tsx";
import { Pager, usePageTokens, type PageTokens } from "../components/pager.tsx";
import { ListStatus } from "../components/list-status.tsx";
import { SearchField } from "../components/search-field.tsx";
import { SelectFilter } from "../components/select-filter.tsx";
import { TableHead } from "../components/table-head.tsx";
import { Empty, PageHeader } from "../components/ui.tsx";
import { useDebounced, useLoad, type Loaded } from "../hooks.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import { mayChange, ResourceNameCell, textFilter, type PlatformKind } from "./platform-common.tsx";

const PAGE_SIZE = 50;

/** What a list page shows of each resource. */
interface Listed {
  name: string;
  displayName: string;
  createdBy: string;
}

type ListAnswer<T> = { nextPageToken: string; totalSize: number } & Partial<Record<PlatformKind, T[]>>;

/** One page of a models, deployments or datasets list, with its search, paging and open dialog. */
export interface PlatformList<T, D> {
  kind: PlatformKind;
  /** The search box's text (`?q=`), searched once it settles. */
  text: string;
  /** Sets the search text, back to the first page. */
  onSearch: (text: string) => void;
  /** The states the list can be narrowed to (`?state=`), if it can, and the one chosen (empty: any). */
  states: readonly string[] | undefined;
  state: string;
  /** The AIP-160 filter the list is loaded with (empty: none). */
  filter: string;
  list: Loaded<ListAnswer<T>>;
  items: T[];
  /** The pages walked so far; back on the first whenever the filter or a parameter changes. */
  pages: PageTokens;
  dialog: D | undefined;
  setDialog: (dialog: D | undefined) => void;
  /** Closes the dialog. */
  close: () => void;
  /** Closes the dialog and loads the list again. */
  saved: () => void;
}

/**
 * Lists `GET /v1/accounts/{account}/{kind}` a page of 50 at a time: the text searched in `idField` and
 * the display name, the state chosen among `states`, the page's own `clauses` and query `params`; and the page's dialog.
 */
export function usePlatformList<T, D>(
  kind: PlatformKind,
  idField: string,
  { states, clauses = [], params = {} }: { states?: readonly string[]; clauses?: string[]; params?: Record<string, string | undefined> },
): PlatformList<T, D> {
  const session = useSession();
  const { search } = useLocation();
  const [text, setText] = useState(search.get("q") ?? "");
  const q = useDebounced(text, 250);
  const state = states?.find((s) => s === search.get("state")) ?? "";
  const filter = [...textFilter(idField, q), ...(state ? [`state=${filterString(state)}`] : []), ...clauses].join(" AND ");
  const pages = usePageTokens([filter, ...Object.values(params)].join("|"));
  const pageToken = pages.pageToken;
  const list = useLoad(
    () => api<ListAnswer<T>>("GET", `/v1/accounts/${session.accountId}/${kind}${query({ pageSize: PAGE_SIZE, filter, pageToken, ...params })}`),
    [filter, pageToken, ...Object.values(params)].join("|"),
  );
  const [dialog, setDialog] = useState<D>();
  return {
    kind,
    text,
    onSearch: (value) => {
      setText(value);
      setSearch({ q: value });
    },
    states,
    state,
    filter,
    list,
    items: list.data?.[kind] ?? [],
    pages,
    dialog,
    setDialog,
    close: () => setDialog(undefined),
    saved: () => {
      setDialog(undefined);
      list.reload();
    },
  };
}

/**
 * The skeleton of the models, deployments and datasets pages: the header with its create button, the
 * toolbar (search and `filters`), the list's states, and the table with its count and pager;
 * `children` (the dialogs) come last.
 */
export function PlatformListPage<T extends Listed, D>({
  page,
  title,
  description,
  noun,
  plural,
  create,
  searchId,
  filters,
  error,
  emptyIcon,
  emptyHint,
  filteredHint,
  columns,
  row,
  children,
}: {
  page: PlatformList<T, D>;
  title: string;
  description: string;
  /** What one item is, in lower case ("model"). */
  noun: string;
  /** What several are ("models"). */
  plural: string;
  /** Besides the search box and the state (`page.states`). */
  filters?: ReactNode;
  /** The create button's label and action; false without the permission. */
  create: false | { label: string; onClick: () => void };
  searchId: string;
  /** A refusal besides the list's own (a row action's). */
  error?: ApiError | undefined;
  emptyIcon: IconName;
  emptyHint: ReactNode;
  filteredHint: string;
  /** The column headings, but the actions'; the first is the name's. */
  columns: string[];
  /** An item's cells after its name, the actions' last: `change` when the principal may update or delete it. */
  row: (item: T, id: string, change: boolean) => ReactNode;
  children?: ReactNode;
}) {
  const session = useSession();
  const { list, items, filter } = page;
  return (
    <>
      <PageHeader
        title={title}
        description={description}
        actions={
          create && (
            <button type="button" className="button button-primary" onClick={create.onClick}>
              <Icon name="plus" /> {create.label}
            </button>
          )
        }
      />
      <div className="toolbar" role="search" aria-label={title}>
        <SearchField id={searchId} label="Search by ID or name" value={page.text} onChange={page.onSearch} />
        {page.states && (
          <SelectFilter
            id={`${noun}-state`}
            label="State"
            anyLabel="Any state"
            options={page.states}
            value={page.state}
            onChange={(value) => setSearch({ state: value })}
          />
        )}
        {filters}
      </div>
      <ListStatus list={list} count={items.length} what={plural} error={error}>
        <Empty icon={emptyIcon} title={filter ? `No ${noun} matches` : `No ${plural} yet`}>
          <p>{filter ? filteredHint : emptyHint}</p>
        </Empty>
      </ListStatus>
      {items.length > 0 && (
        <div className="card table-card" aria-busy={list.loading}>
          <table className="table responsive">
            <caption className="visually-hidden">{title}</caption>
            <TableHead columns={columns} hidden="Actions" />
            <tbody>
              {items.map((item) => (
                <tr key={item.name}>
                  <ResourceNameCell label={columns[0]!} name={item.name} displayName={item.displayName} />
                  {row(item, lastSegment(item.name), mayChange(session, page.kind, item.createdBy))}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="table-footer">
            <span className="muted">{list.data?.totalSize === 1 ? `1 ${noun}` : `${list.data?.totalSize ?? 0} ${plural}`}</span>
            <Pager pages={page.pages} nextPageToken={list.data?.nextPageToken} />
          </div>
        </div>
      )}
      {children}
    </>
  );
}
