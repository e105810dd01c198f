"""The stream registry: adding a stream is a class in its domain module plus one line here."""

from __future__ import annotations

from tap_getresponse.streams.account import AccountsStream, GdprFieldsStream, WorkflowsStream
from tap_getresponse.streams.audience import (
    AccountBlocklistsStream,
    CampaignBlocklistsStream,
    SegmentContactsStream,
    SuppressionsStream,
)
from tap_getresponse.streams.contacts import (
    ContactActivitiesStream,
    ContactDetailsStream,
    ContactsStream,
    CustomFieldsStream,
    ImportsStream,
    SegmentsStream,
    TagsStream,
)
from tap_getresponse.streams.custom_events import CustomEventsStream
from tap_getresponse.streams.ecommerce import (
    CartsStream,
    CategoriesStream,
    OrderLinesStream,
    OrdersStream,
    ProductsStream,
    ShopsStream,
)
from tap_getresponse.streams.experiments import AbTestsStream, SplittestsStream
from tap_getresponse.streams.lists import (
    CampaignBalanceStatisticsStream,
    CampaignListSizeStatisticsStream,
    CampaignLocationStatisticsStream,
    CampaignOriginStatisticsStream,
    CampaignRemovalStatisticsStream,
    CampaignsStream,
    CampaignSubscriptionStatisticsStream,
    CampaignSummaryStatisticsStream,
)
from tap_getresponse.streams.messages import (
    AutorespondersStream,
    AutoresponderStatisticsStream,
    ClickTracksStream,
    FromFieldsStream,
    NewsletterActivitiesStream,
    NewslettersStream,
    NewsletterStatisticsStream,
    RssNewslettersStream,
    RssNewsletterStatisticsStream,
    SmsStream,
)
from tap_getresponse.streams.pages import (
    FormsStream,
    LandingPagesStream,
    LegacyLandingPagesStream,
    PopupsStream,
    WebformsStream,
    WebinarsStream,
)
from tap_getresponse.streams.performance import (
    LandingPagePerformanceStream,
    PopupPerformanceStream,
    WebsitePerformanceStream,
)
from tap_getresponse.streams.removals import RemovedContactsStream, UnconfirmedContactsStream
from tap_getresponse.streams.transactional import (
    TransactionalEmailsStream,
    TransactionalEmailStatisticsStream,
)
from tap_getresponse.streams.websites import WebsitesStream

STREAMS = (
    AccountsStream,
    CampaignsStream,
    CampaignListSizeStatisticsStream,
    CampaignLocationStatisticsStream,
    CampaignOriginStatisticsStream,
    CampaignSubscriptionStatisticsStream,
    CampaignRemovalStatisticsStream,
    CampaignBalanceStatisticsStream,
    CampaignSummaryStatisticsStream,
    CustomFieldsStream,
    CustomEventsStream,
    TagsStream,
    ContactsStream,
    ContactDetailsStream,
    ContactActivitiesStream,
    RemovedContactsStream,
    UnconfirmedContactsStream,
    ImportsStream,
    SegmentsStream,
    SegmentContactsStream,
    SuppressionsStream,
    AccountBlocklistsStream,
    CampaignBlocklistsStream,
    FromFieldsStream,
    GdprFieldsStream,
    NewslettersStream,
    NewsletterStatisticsStream,
    NewsletterActivitiesStream,
    AutorespondersStream,
    AutoresponderStatisticsStream,
    RssNewslettersStream,
    RssNewsletterStatisticsStream,
    ClickTracksStream,
    SmsStream,
    FormsStream,
    WebformsStream,
    PopupsStream,
    PopupPerformanceStream,
    LandingPagesStream,
    LandingPagePerformanceStream,
    LegacyLandingPagesStream,
    WebsitesStream,
    WebsitePerformanceStream,
    AbTestsStream,
    SplittestsStream,
    WebinarsStream,
    WorkflowsStream,
    ShopsStream,
    ProductsStream,
    OrdersStream,
    OrderLinesStream,
    CartsStream,
    CategoriesStream,
    TransactionalEmailsStream,
    TransactionalEmailStatisticsStream,
)

__all__ = ["STREAMS"]
