from django.urls import path

from . import board_views, callback_views, desk_views, duplicate_views, hotline_views, rates_views, views

app_name = "requests"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.submit, name="submit"),
    path("behalf/", views.behalf, name="behalf"),
    path("queue/", views.queue, name="queue"),
    path("board/", board_views.board_index, name="board"),
    path("board/<int:entrance_id>/", board_views.board, name="board_entrance"),
    path("board/<int:entrance_id>/photo/<int:photo_id>/", board_views.board_photo, name="board_photo"),
    path("rates/", rates_views.rates, name="rates"),
    path("callbacks/", callback_views.queue, name="callbacks"),
    path("<int:pk>/callback/", callback_views.call, name="callback"),
    path("hotline/", hotline_views.hotline_import, name="hotline_import"),
    path("hotline/template.<str:fmt>", hotline_views.hotline_template, name="hotline_template"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/outcome/", views.outcome, name="outcome"),
    path("<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("<int:pk>/desk/<slug:name>/", desk_views.desk_act, name="desk_act"),
    path("desk/", desk_views.desk, name="desk"),
    path("desk/dispatch/", desk_views.bulk_dispatch, name="bulk_dispatch"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/photos/", views.add_photos, name="add_photos"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    # duplicates (docs/duplicates.md): similar open requests, 我也遇到, co-requesters, merge/unmerge
    path("similar/", duplicate_views.similar, name="similar"),
    path("<int:pk>/join/", duplicate_views.join, name="join"),
    path("<int:pk>/co-rate/", duplicate_views.co_rate, name="co_rate"),
    path("<int:pk>/duplicates/", duplicate_views.duplicates_fragment, name="duplicates"),
    path("<int:pk>/unmerge/", duplicate_views.unmerge, name="unmerge"),
]
