// The documents relay-compiler reads (it writes __generated__/ and the manifest
// persisted_queries.json beside them); relay.mjs runs the compiled artifacts, which
// are CommonJS (relay/package.json), as relay-compiler writes them by default.
const { graphql } = require("relay-runtime");

exports.taskListQuery = graphql`
  query TaskListQuery($count: Int!) {
    ...TaskList_query @arguments(count: $count)
  }
`;

exports.taskListFragment = graphql`
  fragment TaskList_query on Query
  @argumentDefinitions(count: { type: "Int!" }, cursor: { type: "String" })
  @refetchable(queryName: "TaskListPaginationQuery") {
    tasks(first: $count, after: $cursor) @connection(key: "TaskList_tasks") {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`;
