"""Placeholder: routes of this area are being written."""

from fastapi import APIRouter

router = APIRouter()
