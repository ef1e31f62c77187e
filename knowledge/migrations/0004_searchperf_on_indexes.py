"""A function that runs one read-only statement planned on the bitmap of the indexes.

knowledge.search picks a search's candidates with `LIMIT`: with that PostgreSQL walks an
index of the table (or the table) and tests each row's search vector, which at 100,000
articles costs up to a hundred times more than the GIN index's bitmap (its cost model does
not see the vector read per row). The function's own settings hold while it runs and end
with it, so the planner settings need no transaction and no round trips to set and reset.
It runs with its caller's rights (not SECURITY DEFINER).
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION knowledge_on_indexes(statement text)
RETURNS TABLE (kind text, id bigint)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
BEGIN
    RETURN QUERY EXECUTE statement;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS knowledge_on_indexes(text)"


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_searchperf_language_indexes")]

    operations = [migrations.RunSQL(CREATE, DROP)]
