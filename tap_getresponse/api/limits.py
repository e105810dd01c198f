"""GetResponse's documented API limits: the one place these numbers are written down.

Account-wide limits: https://apidocs.getresponse.com/v3/limits (also the "Limits and throttling"
section of the OpenAPI `info.description`). Paging: the OpenAPI parameter `PerPage` and the
"Pagination" section. The batch endpoint's own limits: the description of the OpenAPI operation
`createBatchContacts` and https://apidocs.getresponse.com/v3/case-study/adding-batch-contacts.
"""

from __future__ import annotations

#: Simultaneous requests per user.
MAX_IN_FLIGHT = 10
#: Calls per second per user.
MAX_CALLS_PER_SECOND = 80
#: The time frame the call quota is counted in (10 minutes).
FRAME_SECONDS = 600.0
#: Calls per user per time frame; the API reports what is left in `X-RateLimit-*` headers.
MAX_CALLS_PER_FRAME = 30_000
#: Items per page of a collection (`perPage`; the API's default is 100).
MAX_PAGE_SIZE = 1000

#: `POST /contacts/batch` (path below /v3): contacts per call and its own call limits.
BATCH_METHOD = "POST"
BATCH_PATH = "/contacts/batch"
MAX_BATCH_CONTACTS = 1000
BATCH_CALLS_PER_SECOND = 1
BATCH_CALLS_PER_FRAME = 80
